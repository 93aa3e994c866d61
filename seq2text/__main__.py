from seq2text.cli import main

main()
