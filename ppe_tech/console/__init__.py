"""The exam-day console (``ppe-tech serve``): the whole point live in a browser.

``app.create_app`` builds the Starlette application; ``data`` is the one adapter onto the
other jobs' APIs; ``live`` keeps alerts, camera looks and the recording watch; ``runs``
runs checklists from the page; ``security`` holds sessions, CSRF and the TLS certificate.
"""
