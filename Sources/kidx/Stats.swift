import ArgumentParser
import Foundation
import Kidx

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Print documents, terms, postings and bytes per file.")

    @OptionGroup var indexOptions: IndexOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Flag(name: .long, help: "Also break terms, postings and list bytes down by key space (reads the whole dictionary).")
    var spaces = false

    func run() throws {
        try reportingErrors {
            let reader = try IndexReader(directory: indexOptions.index)
            let stats = reader.statistics()
            let spaceFigures = spaces ? try reader.keySpaceStatistics() : []
            if json {
                var object: [String: Any] = ["documents": stats.documents, "deleted": stats.deleted, "segments": stats.segments,
                                             "terms": stats.terms, "postings": stats.postings,
                                             "files": stats.files, "generation": stats.generation]
                if spaces {
                    object["spaces"] = spaceFigures.map {
                        ["name": $0.name, "terms": $0.terms, "postings": $0.postings, "posting_bytes": $0.postingBytes, "position_bytes": $0.positionBytes]
                    }
                }
                Terminal.printJSON(object)
                return
            }
            print("index       \(indexOptions.index) (\(stats.generation))")
            print("documents   \(Terminal.grouped(stats.documents))\(stats.deleted > 0 ? " (and \(Terminal.grouped(stats.deleted)) deleted, until merged)" : "")")
            print("segments    \(stats.segments)")
            print("terms       \(Terminal.grouped(stats.terms))")
            print("postings    \(Terminal.grouped(stats.postings))")
            for (name, bytes) in stats.files.sorted(by: { $0.key < $1.key }) {
                print(name.padding(toLength: 14, withPad: " ", startingAt: 0) + Terminal.grouped(bytes).leftPadded(14) + " bytes")
            }
            print("total".padding(toLength: 14, withPad: " ", startingAt: 0) + Terminal.grouped(stats.files.values.reduce(0, +)).leftPadded(14) + " bytes")
            guard spaces else { return }
            print("")
            print("key space".padding(toLength: 22, withPad: " ", startingAt: 0) + "terms".leftPadded(10) + "postings".leftPadded(13)
                  + "postings.kdx".leftPadded(14) + "positions.kdx".leftPadded(15))
            for space in spaceFigures {
                print(space.name.padding(toLength: 22, withPad: " ", startingAt: 0) + Terminal.grouped(space.terms).leftPadded(10)
                      + Terminal.grouped(space.postings).leftPadded(13) + Terminal.grouped(space.postingBytes).leftPadded(14)
                      + Terminal.grouped(space.positionBytes).leftPadded(15))
            }
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Verify every checksum and decode every structure of the index.")

    @OptionGroup var indexOptions: IndexOptions

    func run() throws {
        try reportingErrors {
            let reader = try IndexReader(directory: indexOptions.index)
            try reader.verify { Terminal.progress("checking \($0)") }
            Terminal.endProgress()
            print("ok: \(Terminal.grouped(reader.documentCount)) documents, every file verified")
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
