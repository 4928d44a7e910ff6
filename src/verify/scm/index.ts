export { verifyBitbucket } from './bitbucket.js'
export { verifyGithub } from './github.js'
export { verifyGitlab } from './gitlab.js'
