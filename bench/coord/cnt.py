"""coordination-network-toolkit steps that bench-coord runs through the tool's Python API
rather than its command line (run with the interpreter of <repo>/.venv-bench):

  preprocess-links DB FILE
      Loads FILE (the toolkit's CSV) into DB with the toolkit's own preprocess_data, as
      preprocess_csv_files does, except that an empty urls cell gives no URL. The command
      line turns it into the URL "" (row[-1].split(" ") == [""]), which makes every post
      without a link co-link with every other; this is the input its co-link run gets.

  export DB NETWORK_TYPE OUT
      Writes the computed network's edges to OUT with the toolkit's own output_gephi_csv,
      self loops left out (loops=False, the command line's default). In 1.5.2 the command
      line's `compute ... --output_format csv --output_file` and `export_network
      --output_format csv` both fail after computing (TypeError: output_gephi_csv() got an
      unexpected keyword argument 'n_messages'), so this is the same call without it.
"""

import csv
import sys

from coordination_network_toolkit.output import output_gephi_csv
from coordination_network_toolkit.preprocess import preprocess_data


def preprocess_links(db, path):
    with open(path, "r", encoding="utf-8") as messages:
        reader = csv.reader(messages)
        next(reader)
        data = ((*row[:-1], [u for u in row[-1].split(" ") if u]) for row in reader)
        preprocess_data(db, data)


def main():
    command, *args = sys.argv[1:]
    if command == "preprocess-links" and len(args) == 2:
        preprocess_links(*args)
    elif command == "export" and len(args) == 3:
        output_gephi_csv(args[0], args[1], args[2], loops=False)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
