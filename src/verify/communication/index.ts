export { verifySlack } from './slack.js'
