/**
 * Stable error codes of the policy compiler (docs/policy.md "Error codes"). Clients and
 * tests match on these strings; renaming one is a breaking change.
 */
export const CAPABILITY_ERROR_CODES = [
  'CAP_EMPTY',
  'CAP_TOO_LONG',
  'CAP_CONTROL_CHAR',
  'CAP_NON_ASCII',
  'CAP_MALFORMED',
  'CAP_UNKNOWN_KIND',
  'CAP_UNKNOWN_ACTION',
  'CAP_ACTION_DUPLICATE',
  'CAP_FS_RELATIVE',
  'CAP_FS_TRAVERSAL',
  'CAP_FS_PATH',
  'CAP_FS_GLOB',
  'CAP_FS_TOO_BROAD',
  'CAP_NET_HOST',
  'CAP_NET_PRIVATE',
  'CAP_NET_PORT',
  'CAP_EXEC_PATH',
  'CAP_EXEC_NAME',
  'CAP_ENV_NAME',
  'CAP_IPC_PATH',
  'CAP_CLOCK_SCOPE',
  'CAP_ASSERT_ID',
  'CAP_ASSERT_DESCRIPTION',
  'CAP_UNKNOWN_REFINEMENT',
  'CAP_REFINEMENT_VALUE',
  'CAP_REFINEMENT_DUPLICATE',
] as const;

export type CapabilityErrorCode = (typeof CAPABILITY_ERROR_CODES)[number];

export const MANIFEST_ERROR_CODES = [
  'MANIFEST_SHAPE',
  'MANIFEST_TOOL_DUPLICATE',
  'MANIFEST_RUN_UNDECLARED_EXEC',
  'MANIFEST_RUN_ARGV',
  'TOOL_NOT_FOUND',
] as const;

export type ManifestErrorCode = (typeof MANIFEST_ERROR_CODES)[number];

export type PolicyErrorCode = CapabilityErrorCode | ManifestErrorCode;

/**
 * A compile failure: the code, the dotted path of the offending value inside the manifest
 * (`tools.0.capabilities.3`), and for capability errors the tool and capability indexes.
 * Never the offending value itself: callers may show this to a client.
 */
export interface PolicyError {
  code: PolicyErrorCode;
  path: string;
  tool?: number;
  index?: number;
}
