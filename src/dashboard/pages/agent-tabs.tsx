/** The links between an agent's pages (its connectors and tools, settings, conversations, usage). */
const TABS = [
  { key: 'agent', label: 'Connectors and tools', suffix: '' },
  { key: 'settings', label: 'Settings', suffix: '/settings' },
  { key: 'conversations', label: 'Conversations', suffix: '/conversations' },
  { key: 'usage', label: 'Usage', suffix: '/usage' },
] as const;

export type AgentTab = (typeof TABS)[number]['key'];

export const AgentTabs = (props: { agentId: string; current: AgentTab }) => {
  const base = `/agents/${encodeURIComponent(props.agentId)}`;
  return (
    <nav aria-label="This agent" class="tabs">
      <ul>
        <li>
          <a href="/agents">← All agents</a>
        </li>
        {TABS.map((tab) => (
          <li>
            <a href={`${base}${tab.suffix}`} aria-current={tab.key === props.current ? 'page' : undefined}>
              {tab.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
};
