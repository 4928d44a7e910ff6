export { verifyCheckmate } from './checkmate.js'
