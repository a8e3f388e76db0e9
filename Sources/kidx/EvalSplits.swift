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
            let reader = try IndexReader(directory: indexOptions.index)
            let splitter = CompoundSplitter(reader: reader)
            var compounds = 0, exact = 0, negatives = 0, falseSplits = 0, unsplit = 0
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let fields = line.split(separator: "\t").map(String.init)
                guard fields.count >= 3 else { continue }
                let expected = splitter.terms(of: fields[1].split(separator: " ").map(String.init))
                let predicted = splitter.split(fields[0])
                if fields[2] == "negative" {
                    negatives += 1
                    if let predicted {
                        falseSplits += 1
                        if verbose { print("false split  \(fields[0]) -> \(predicted.joined(separator: " "))") }
                    }
                } else {
                    compounds += 1
                    if predicted == expected {
                        exact += 1
                    } else {
                        if predicted == nil { unsplit += 1 }
                        if verbose { print("wrong        \(fields[0]) -> \(predicted?.joined(separator: " ") ?? "(not split)")   expected \(expected.joined(separator: " "))") }
                    }
                }
            }
            let accuracy = Double(exact) / Double(max(compounds, 1)), falseRate = Double(falseSplits) / Double(max(negatives, 1))
            if json {
                Terminal.printJSON(["compounds": compounds, "exact": exact, "accuracy": accuracy, "unsplit": unsplit,
                                    "negatives": negatives, "false_splits": falseSplits, "false_split_rate": falseRate] as [String: Any])
            } else {
                print(String(format: "compounds %d: exact %d (%.1f %%), not split %d; negatives %d: false splits %d (%.1f %%)",
                             compounds, exact, accuracy * 100, unsplit, negatives, falseSplits, falseRate * 100))
            }
        }
    }
}
