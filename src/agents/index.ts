export { isolationAllowed, UNRESTRICTED_FLAG, unrestrictedAllowed } from './isolation';
export { agentRoutes, agentView, findAgent } from './routes';
export { AgentSettings, AgentView, Isolation } from './schemas';
