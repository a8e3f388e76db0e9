import ArgumentParser
import Foundation
import Kidx

/// Every subcommand names itself (`commandName`): ArgumentParser would otherwise derive the names
/// from the type names by demangling them, 11 % of a `kidx search`'s instructions.
@main
struct KidxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kidx",
        abstract: "Full-text search for German news.",
        subcommands: [Build.self, Add.self, Delete.self, Optimize.self, Search.self, Show.self, Stats.self, Check.self, Analyze.self, Eval.self, EvalSplits.self, BenchQueries.self]
    )
}

/// Options every index-reading command shares.
struct IndexOptions: ParsableArguments {
    @Option(name: .long, help: "The index directory.")
    var index = "Index"
}

/// Runs `body`, turning a kidx error into a one-line message on standard error and exit code 1.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as KidxError {
        Terminal.error(error.description)
        throw ExitCode(1)
    }
}
