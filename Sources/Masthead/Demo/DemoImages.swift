import Foundation

/// Illustrations for the demo content, drawn as SVG from a seed so every install gets the same
/// pictures without shipping binary files: a horizon of hills under a sky, with a sun.
enum DemoImages {
    static let leadSize = (width: 1200, height: 675)

    private static let palettes: [(sky: String, horizon: String, land: [String], sun: String)] = [
        ("#1d3557", "#e9c46a", ["#264653", "#2a9d8f", "#16302b"], "#f4a261"),
        ("#3d2c2e", "#e76f51", ["#6b4226", "#8c5e3c", "#2e1f1b"], "#ffd166"),
        ("#0b3954", "#bfd7ea", ["#087e8b", "#0b5563", "#06303a"], "#ff5a5f"),
        ("#2b2d42", "#8d99ae", ["#4a4e69", "#22223b", "#9a8c98"], "#edf2f4"),
        ("#5f0f40", "#fb8b24", ["#9a031e", "#0f4c5c", "#3c0919"], "#e36414"),
        ("#283618", "#dda15e", ["#606c38", "#3a4a1f", "#bc6c25"], "#fefae0"),
    ]

    static func lead(seed: String) -> String {
        var random = SeededRandom(seed: seed)
        let palette = palettes[random.next(palettes.count)]
        let (width, height) = leadSize
        var layers = ""
        for (index, colour) in palette.land.enumerated() {
            let baseline = height * (55 + index * 12) / 100
            var points = "0,\(height) 0,\(baseline)"
            var x = 0
            while x < width {
                x += 80 + random.next(160)
                points += " \(min(x, width)),\(baseline - 40 + random.next(90))"
            }
            points += " \(width),\(height)"
            layers += "<polygon points=\"\(points)\" fill=\"\(colour)\" opacity=\"0.92\"/>"
        }
        let sunX = 150 + random.next(width - 300)
        let sunY = 120 + random.next(160)
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)">\
        <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">\
        <stop offset="0" stop-color="\(palette.sky)"/><stop offset="1" stop-color="\(palette.horizon)"/>\
        </linearGradient></defs>\
        <rect width="\(width)" height="\(height)" fill="url(#sky)"/>\
        <circle cx="\(sunX)" cy="\(sunY)" r="\(50 + random.next(40))" fill="\(palette.sun)" opacity="0.9"/>\
        \(layers)</svg>
        """
    }

    static func avatar(name: String, seed: String) -> String {
        var random = SeededRandom(seed: seed)
        let palette = palettes[random.next(palettes.count)]
        let initials = name.split(separator: " ").prefix(2).compactMap(\.first).map(String.init).joined()
        let escaped = initials.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="240" height="240" viewBox="0 0 240 240">\
        <rect width="240" height="240" fill="\(palette.sky)"/>\
        <text x="120" y="120" dy="0.35em" text-anchor="middle" font-family="sans-serif" font-size="96" \
        fill="\(palette.horizon)">\(escaped)</text></svg>
        """
    }
}

/// A small deterministic generator (SplitMix64) so a slug always draws the same picture.
struct SeededRandom {
    private var state: UInt64

    init(seed: String) {
        state = seed.utf8.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 }
    }

    mutating func next(_ upperBound: Int) -> Int {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        z ^= z >> 31
        return Int(z % UInt64(max(upperBound, 1)))
    }
}
