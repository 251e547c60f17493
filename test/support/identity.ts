// The body of a Keystone password login (POST /v3/auth/tokens) as the tests send it: user and project in the
// Default domain by id; `project` null for an unscoped token.
export const passwordLogin = (name: string, password: string, project: string | null = 'admin') => ({
  auth: {
    identity: { methods: ['password'], password: { user: { name, domain: { id: 'default' }, password } } },
    ...(project ? { scope: { project: { name: project, domain: { id: 'default' } } } } : {}),
  },
});
