from mycity.cli import main

if __name__ == "__main__":  # not when a rebuild's shard process imports it
    main()
