/**
 * k8s target (docs/policy.md "k8s"): a Pod spec with a locked-down securityContext and a
 * NetworkPolicy that allows only DNS and the egress proxy (which enforces `egress`).
 * NetworkPolicy matches addresses, not names, so declared hosts go through the proxy.
 */
import type { NormalizedPolicy } from './normalize';
import { type Artifact, baseArtifact, fsGrantText, ipcText, isWritable, NOTE_ASSERTIONS, NOTE_EXEC, workingDirectory } from './artifact';

export const K8S_EGRESS_PROXY_LABELS = { 'app.kubernetes.io/name': 'portcullis-egress-proxy' };
export const K8S_EGRESS_PROXY_PORT = 3128;
const RUN_AS = 65532;

function dnsPeer() {
  return {
    to: [
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
    ],
    ports: [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ],
  };
}

export function compileK8s(policy: NormalizedPolicy): Artifact {
  const artifact = baseArtifact(policy, 'k8s');
  const name = `portcullis-${policy.scope.kind === 'tool' ? policy.scope.tool : policy.manifest.name}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 63)
    .replace(/-+$/, '');
  const labels = {
    'app.kubernetes.io/name': name,
    'portcullis.dev/policy': policy.provenance.slice('sha256:'.length, 'sha256:'.length + 40),
  };

  // A private /tmp, unless a writable grant mounts /tmp itself (a Pod refuses two mounts on one path).
  const ownTmp = !policy.fs.some((grant) => grant.path === '/tmp' && isWritable(grant));
  const volumes: unknown[] = ownTmp ? [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }] : [];
  const volumeMounts: unknown[] = ownTmp ? [{ name: 'tmp', mountPath: '/tmp' }] : [];
  policy.fs.forEach((grant, i) => {
    if (isWritable(grant)) {
      volumes.push({ name: `fs-${i}`, emptyDir: { sizeLimit: '1Gi' } });
      volumeMounts.push({ name: `fs-${i}`, mountPath: grant.path });
    } else {
      artifact.unenforceable.push({
        capability: fsGrantText(grant),
        reason: 'no host path is ever mounted (hostPath is refused); the path is visible only if the image provides it, read-only.',
      });
    }
  });
  for (const socket of policy.ipc)
    artifact.unenforceable.push({ capability: ipcText(socket), reason: 'host unix sockets would need hostPath, which is refused.' });
  for (const entry of policy.exec.filter((e) => e.nestedSandbox)) {
    artifact.unenforceable.push({
      capability: `exec:spawn:${entry.binary}?nestedSandbox=true`,
      reason: 'RuntimeDefault seccomp and dropped capabilities block nested user namespaces; Portcullis does not loosen them.',
    });
  }

  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostNetwork: false,
      hostPID: false,
      hostIPC: false,
      restartPolicy: 'Never',
      securityContext: {
        runAsNonRoot: true,
        runAsUser: RUN_AS,
        runAsGroup: RUN_AS,
        fsGroup: RUN_AS,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'tool',
          image: 'IMAGE',
          workingDir: workingDirectory(policy),
          securityContext: {
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
          resources: { limits: { cpu: '1', memory: '512Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
          env: artifact.envInjections.map((entry) => ({
            name: entry.name,
            valueFrom: { secretKeyRef: { name: `${name}-env`, key: entry.name } },
          })),
          volumeMounts,
        },
      ],
      volumes,
    },
  };
  const networkPolicy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name },
    spec: {
      podSelector: { matchLabels: labels },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      // Nothing declared → no egress at all, not even DNS.
      egress:
        policy.net.length === 0
          ? []
          : [
              dnsPeer(),
              {
                to: [{ podSelector: { matchLabels: K8S_EGRESS_PROXY_LABELS } }],
                ports: [{ protocol: 'TCP', port: K8S_EGRESS_PROXY_PORT }],
              },
            ],
    },
  };
  artifact.config = { pod, networkPolicy };
  artifact.notes.push(
    'replace IMAGE; env values come from the Secret named in secretKeyRef, created by the gateway with only the declared names.',
    policy.net.length > 0
      ? 'egress: only DNS and the egress proxy pod; the proxy enforces `egress` (compile --target egress --egress-target squid).'
      : 'egress: none (nothing declared).',
    NOTE_EXEC,
  );
  if (policy.assertions.length > 0) artifact.notes.push(NOTE_ASSERTIONS);
  return artifact;
}
