from ftui.train.worker import main

raise SystemExit(main())
