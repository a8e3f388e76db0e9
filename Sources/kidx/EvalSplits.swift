import ArgumentParser
import Foundation
import Kidx

/// Splitting accuracy against a gold list of compounds and non-compounds.
struct EvalSplits: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-splits",
        abstract: "Measure compound splitting: exact-split accuracy and false-split rate on a gold list.",
        discussion: "The gold list is word<TAB>parts<TAB>compound|negative (Tests/KidxTests/Resources/compounds-gold.tsv). Parts are compared by their index terms (stems), the way they are searched. The lexicon is the index's: build it on a corpus first.")

    @OptionGroup var indexOptions: IndexOptions
    @Option(name: .long, help: "The gold list.") var gold = "Tests/KidxTests/Resources/compounds-gold.tsv"
    @Flag(name: .long, help: "Print every wrong split.") var verbose = false
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() throws {
        try reportingErrors {
            guard let text = try? String(contentsOfFile: gold, encoding: .utf8) else { throw KidxError.io(path: gold, reason: "cannot read") }
            let report = CompoundSplitter(reader: try IndexReader(directory: indexOptions.index)).evaluate(goldList: text)
            if verbose { report.mistakes.forEach { print($0) } }
            if json {
                Terminal.printJSON(["compounds": report.compounds, "exact": report.exact, "accuracy": report.accuracy,
                                    "not_split": report.notSplit, "negatives": report.negatives,
                                    "false_splits": report.falseSplits, "false_split_rate": report.falseSplitRate] as [String: Any])
            } else {
                print(String(format: "compounds %d: exact %d (%.1f %%), not split %d; negatives %d: false splits %d (%.1f %%)",
                             report.compounds, report.exact, report.accuracy * 100, report.notSplit,
                             report.negatives, report.falseSplits, report.falseSplitRate * 100))
            }
        }
    }
}
