export { clientIp, clientIpOf, UNKNOWN_CLIENT_IP } from './client-ip';
export { cors, isAllowedOrigin, parseAllowedOrigins } from './cors';
export { ApiError, ERROR_STATUS, errorBody, handleError, type ErrorCode } from './errors';
export { jsonBody, MAX_JSON_BODY_BYTES, rawBodyLimit } from './json-body';
export { createRouter, fieldPaths } from './openapi';
export { requestId } from './request-id';
export { notFoundOrMethodNotAllowed } from './routing';
export { AUTHENTICATED, ErrorEnvelope, errorResponses, jsonBodyOf, jsonContent } from './schemas';
export { SECURITY_HEADERS, securityHeaders } from './security-headers';
