export { verifyAppStore } from './app-store.js'
export { verifyPlayStore } from './play-store.js'
