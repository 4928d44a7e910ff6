export { verifyGithubActions } from './github-actions.js'
export { verifyJenkins } from './jenkins.js'
