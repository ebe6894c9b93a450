"""The console's screens: login, dashboard, monitor_detail, monitor_form, confirm, anomalies, tools,
settings (webhooks, status page) and admin (users, probes, engine). Each is thin: API calls run
in workers (base.py) and the screen renders what comes back."""
