using System.Globalization;

namespace ToDoList.Bench;

/// <summary>A process's resident memory now and at its peak, in MB, from <c>/proc/PID/status</c> (VmRSS, VmHWM).</summary>
internal readonly record struct Rss(double ResidentMb, double PeakMb)
{
    public static Rss Of(int pid) => Read($"/proc/{pid}/status");

    public static Rss OfThisProcess() => Read("/proc/self/status");

    private static Rss Read(string status)
    {
        double Megabytes(string line) => long.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        double resident = 0, peak = 0;
        foreach (var line in File.ReadLines(status))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                resident = Megabytes(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Megabytes(line);
            }
        }

        return new Rss(resident, peak);
    }
}
