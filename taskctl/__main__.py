from taskctl.app import main

main()
