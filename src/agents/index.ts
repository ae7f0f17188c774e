export { isolationAllowed, UNRESTRICTED_FLAG, unrestrictedAllowed } from './isolation';
export {
  agentInWorkspace,
  agentView,
  createAgent,
  deleteAgent,
  findAgent,
  getAgent,
  guardsOfAgent,
  listAgents,
  updateAgent,
  type AgentBindings,
  type AgentDeletionHook,
} from './agents';
export { agentRoutes } from './routes';
export { AgentSettings, AgentView, Isolation, TurnLimits, UpdateAgent } from './schemas';
