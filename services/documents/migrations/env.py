from kaohe.migrate import run_env

run_env()
