from trtscope.cli.main import entry

entry()
