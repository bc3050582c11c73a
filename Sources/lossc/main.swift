import Foundation
import LosscCLI

// The subcommands live in the LosscCLI library, so that tests can call them in process.
exit(LosscCLI.main())
