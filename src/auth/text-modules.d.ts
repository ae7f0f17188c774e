// Wrangler (and the vitest plugin) bundle *.txt files as text modules (default module rules).
declare module '*.txt' {
  const text: string;
  export default text;
}
