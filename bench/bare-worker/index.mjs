/* global Response */
// The comparison Worker of the end-to-end bench: nothing but a response.
export default { fetch: () => new Response('ok') };
