from ppe_tech.cli import main

main()
