export { lookupConnector } from './lookup';
export { createConnector, deleteConnector, listConnectors, type ConnectorBindings, type ConnectorOutcome } from './connectors';
export { connectorRoutes } from './routes';
export { CreateConnector, type CreateConnectorInput } from './schemas';
