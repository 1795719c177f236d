"""The managers' app: managers, regional leads and admins sign in and act on the callbacks of the sites
they may see; scripts do the same with a personal API token (`miroir callbacks`).

`miroir managers serve` runs `services.managers.app.create_app()` on uvicorn. See README,
"Managers: accounts and access".
"""
