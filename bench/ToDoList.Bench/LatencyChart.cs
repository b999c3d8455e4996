using System.Globalization;
using System.Text;
using ToDoList.Bench.Scenarios;

namespace ToDoList.Bench;

/// <summary>The <c>e2e</c> chart, as SVG text: POST latency (p99 solid, p50 dashed; log scale) against concurrent clients, a line per design.</summary>
internal static class LatencyChart
{
    private const int Width = 780, Height = 460, Left = 80, Right = 560, Top = 70, Bottom = 400;
    private static readonly (string Design, string Color)[] Series = [("ours", "#1b9e77"), ("seed design", "#d95f02"), ("synchronous", "#7570b3")];

    public static string Svg(IReadOnlyList<EndToEnd.Median> points, int[] clientCounts, DateTime when)
    {
        var all = points.SelectMany(p => new[] { p.P50, p.P99 }).Where(v => v > 0).DefaultIfEmpty(1).ToList();
        var (low, high) = (Math.Floor(Math.Log10(all.Min())), Math.Ceiling(Math.Log10(all.Max())));
        if (high <= low)
        {
            high = low + 1;
        }

        double X(int clients) => Left + 30 + (Math.Log2(clients) - Math.Log2(clientCounts[0])) / (Math.Log2(clientCounts[^1]) - Math.Log2(clientCounts[0])) * (Right - Left - 60);
        double Y(double ms) => Bottom - (Math.Log10(Math.Max(ms, Math.Pow(10, low))) - low) / (high - low) * (Bottom - Top);

        var svg = new StringBuilder();
        svg.AppendLine(Invariant($"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" font-family="sans-serif" font-size="12">"""));
        svg.AppendLine(Invariant($"""<rect width="{Width}" height="{Height}" fill="white"/>"""));
        svg.AppendLine("""<text x="20" y="28" font-size="16" font-weight="bold">POST /todo latency against concurrent clients</text>""");
        svg.AppendLine(Invariant($"""<text x="20" y="48" fill="#555">POST /todo → a row in PostgreSQL, closed loop, all on one 2-core machine; p99 solid, p50 dashed; bench e2e, {when:yyyy-MM-dd}</text>"""));

        // Axes: a line per decade of latency, a tick per client count.
        for (var decade = low; decade <= high; decade++)
        {
            var y = Y(Math.Pow(10, decade));
            svg.AppendLine(Invariant($"""<line x1="{Left}" y1="{y:F1}" x2="{Right}" y2="{y:F1}" stroke="#ddd"/>"""));
            svg.AppendLine(Invariant($"""<text x="{Left - 8}" y="{y + 4:F1}" text-anchor="end">{Milliseconds(Math.Pow(10, decade))}</text>"""));
        }

        foreach (var clients in clientCounts)
        {
            svg.AppendLine(Invariant($"""<text x="{X(clients):F1}" y="{Bottom + 20}" text-anchor="middle">{clients}</text>"""));
        }

        svg.AppendLine(Invariant($"""<line x1="{Left}" y1="{Bottom}" x2="{Right}" y2="{Bottom}" stroke="#333"/>"""));
        svg.AppendLine(Invariant($"""<line x1="{Left}" y1="{Top}" x2="{Left}" y2="{Bottom}" stroke="#333"/>"""));
        svg.AppendLine(Invariant($"""<text x="{(Left + Right) / 2}" y="{Bottom + 42}" text-anchor="middle">concurrent clients</text>"""));
        svg.AppendLine(Invariant($"""<text x="20" y="{(Top + Bottom) / 2}" transform="rotate(-90 20 {(Top + Bottom) / 2})" text-anchor="middle">POST latency (log scale)</text>"""));

        var legendY = Top + 10;
        foreach (var (design, color) in Series)
        {
            // A design that answered nothing within a point has no latency there: said at the top, not drawn as zero.
            foreach (var silent in points.Where(p => p.Design == design && p.PerSecond == 0))
            {
                svg.AppendLine(Invariant($"""<text x="{X(silent.Clients) - 7:F1}" y="{Top - 6}" fill="{color}" font-size="11" text-anchor="end">{design}: no answer within the point</text>"""));
            }

            var line = points.Where(p => p.Design == design && p.PerSecond > 0).OrderBy(p => p.Clients).ToList();
            if (line.Count == 0)
            {
                continue;
            }

            svg.AppendLine(Invariant($"""<polyline fill="none" stroke="{color}" stroke-width="2.5" points="{string.Join(' ', line.Select(p => Invariant($"{X(p.Clients):F1},{Y(p.P99):F1}")))}"/>"""));
            svg.AppendLine(Invariant($"""<polyline fill="none" stroke="{color}" stroke-width="1.5" stroke-dasharray="5,4" points="{string.Join(' ', line.Select(p => Invariant($"{X(p.Clients):F1},{Y(p.P50):F1}")))}"/>"""));
            foreach (var p in line)
            {
                var (x, y) = (X(p.Clients), Y(p.P99));
                svg.AppendLine(Invariant($"""<circle cx="{x:F1}" cy="{y:F1}" r="4" fill="{color}"/>"""));
                var errors = p.ErrorPercent > 0 ? Invariant($", {p.ErrorPercent:F0} % errors") : "";
                // The last column's labels go left of their point, clear of the legend.
                var (dx, anchor) = p.Clients == clientCounts[^1] ? (-7, "end") : (7, "start");
                svg.AppendLine(Invariant($"""<text x="{x + dx:F1}" y="{y - 6:F1}" fill="{color}" font-size="11" text-anchor="{anchor}">{Milliseconds(p.P99)}{errors}</text>"""));
            }

            var last = line[^1];
            svg.AppendLine(Invariant($"""<line x1="{Right + 20}" y1="{legendY}" x2="{Right + 44}" y2="{legendY}" stroke="{color}" stroke-width="2.5"/>"""));
            svg.AppendLine(Invariant($"""<text x="{Right + 50}" y="{legendY + 4}">{design}</text>"""));
            svg.AppendLine(Invariant($"""<text x="{Right + 50}" y="{legendY + 19}" fill="#555" font-size="11">{last.PerSecond:N0} req/s at {last.Clients}</text>"""));
            legendY += 44;
        }

        svg.AppendLine(Invariant($"""<text x="{Right + 20}" y="{legendY + 4}" fill="#555" font-size="11">ours: todo api + save-handler,</text>"""));
        svg.AppendLine(Invariant($"""<text x="{Right + 20}" y="{legendY + 18}" fill="#555" font-size="11">NATS JetStream, 202</text>"""));
        svg.AppendLine(Invariant($"""<text x="{Right + 20}" y="{legendY + 36}" fill="#555" font-size="11">seed: a NATS connection per</text>"""));
        svg.AppendLine(Invariant($"""<text x="{Right + 20}" y="{legendY + 50}" fill="#555" font-size="11">request, NATS core, 202</text>"""));
        svg.AppendLine(Invariant($"""<text x="{Right + 20}" y="{legendY + 68}" fill="#555" font-size="11">synchronous: the API inserts</text>"""));
        svg.AppendLine(Invariant($"""<text x="{Right + 20}" y="{legendY + 82}" fill="#555" font-size="11">the row itself, 201</text>"""));
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string Milliseconds(double ms) => ms switch
    {
        >= 1000 => Invariant($"{ms / 1000:0.#} s"),
        >= 10 => Invariant($"{ms:0} ms"),
        >= 1 => Invariant($"{ms:0.#} ms"),
        _ => Invariant($"{ms:0.##} ms"),
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
