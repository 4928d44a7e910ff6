export { verifyJira } from './jira.js'
