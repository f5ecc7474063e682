"""Who is calling: sessions, passwords, OIDC, MFA, JWT tokens, roles and their reach."""
