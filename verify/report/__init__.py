"""`verify report`: an Allure HTML report of a run or of the monitor's history."""
