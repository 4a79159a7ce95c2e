"""``peyvand serve``: web forms and SMS into the inbox, the customer master out, over HTTP.

``hub.serve.app.create_app`` builds the ASGI application around a ``Hub``; the settings
(``hub.serve.settings``) are read with the rest of config.yaml, so importing this package
does not import the web framework.
"""
