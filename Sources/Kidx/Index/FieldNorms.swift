import Foundation

/// Field lengths quantized to one byte each, as Lucene does: exact up to 23 words, then
/// geometric steps of 4.5 %. BM25 needs only a length's rough size, and one byte per document
/// and field keeps the norms file tiny and lets scoring use a 256-entry table.
enum FieldNorms {
    /// The length each byte stands for.
    static let lengths: [Int] = {
        var table = [Int](repeating: 0, count: 256)
        for byte in 0..<256 {
            table[byte] = byte < 24 ? byte : max(table[byte - 1] + 1, Int(24 * pow(1.045, Double(byte - 23))))
        }
        return table
    }()

    /// The byte for `length`: the largest step not above it.
    static func encode(_ length: Int) -> UInt8 {
        if length < 24 { return UInt8(max(length, 0)) }
        var low = 23, high = 255
        while low < high {
            let middle = (low + high + 1) / 2
            if lengths[middle] <= length { low = middle } else { high = middle - 1 }
        }
        return UInt8(low)
    }
}
