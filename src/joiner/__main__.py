from joiner.cli import main

main()
