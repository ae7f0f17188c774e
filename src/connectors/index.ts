export { CONNECTOR_SECRET_NAMES, lookupConnector } from './lookup';
export { connectorRoutes } from './routes';
