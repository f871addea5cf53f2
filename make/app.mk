# Web app (app/): the local twin (tools/local/), the App Service package (tools/deploy/app/).
.PHONY: serve package-app

serve: $(SETUP_STAMP)  ## local twin: Azurite lake, Cosmos emulator, model, batch run, app at http://127.0.0.1:8000
	@$(PY) -m tools.local.local_twin

package-app: $(SETUP_STAMP)  ## build dist/app.zip for App Service (app, contract, scoring code, model, requirements.txt)
	@$(PY) -m tools.deploy.app.package
