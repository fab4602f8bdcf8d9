"""A client's access to the portal: invitations (hashed single-use tokens), activation by the
accountant, the login created on acceptance, and the rules around them. No I/O, no frameworks."""
