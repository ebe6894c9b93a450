"""The console's screens: login, dashboard, monitor_detail, monitor_form, confirm, anomalies, tools,
maintenance, metrics, settings and admin (users, probes, engine). Settings is a frame of tabs
whose panels live in their own modules: webhooks (and webhook_form), status_page, api_keys and
transfer. Each is thin: API calls run in workers (base.py) and the screen renders what comes back."""
