"""LTI 1.3 Advantage: `grade serve --public-url URL` is also a tool LMSs add in minutes.

One package owns the protocol, over the service's database and its submission path:
`store` (the LTI tables), `keys` (the tool's RSA keys), `launch` (OIDC login and launch
validation), `deeplink`, `register` (dynamic registration), `ags` (the score outbox and its
sender), `submit` (an upload queued like `POST /v1/submissions`), `views` (the pages) and
`routes` (the `/lti` routes). See docs/lti.md.
"""
