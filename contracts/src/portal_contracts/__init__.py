"""Contracts shared by every service of the accountant portal.

Events (one module per family), their envelope, the topic names and the value types they carry.
Services never import each other; this package (and the small libraries under libs/) is all they
share. A change here is a change of a public contract: the schema snapshot test guards it.
"""
