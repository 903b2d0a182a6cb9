from mycity.cli import main

main()
