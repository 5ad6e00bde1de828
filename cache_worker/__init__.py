"""The AWS Lambda entry point for REQUEST/SQLS events: ``cache_worker.handler.lambda_handler``."""
