from netcert.cli import main

main()
