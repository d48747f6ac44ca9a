import sys

from seqcnn.cli import main

sys.exit(main())
