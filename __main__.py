"""pyscale: `pulumi up --stack <env>`. The program lives in components/program.py."""

from components import program

exports = program.main()
