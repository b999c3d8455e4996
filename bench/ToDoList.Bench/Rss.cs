namespace ToDoList.Bench;

/// <summary>A process's resident memory now and at its peak, from <c>/proc/PID/status</c> (VmRSS, VmHWM), in bytes.</summary>
internal readonly record struct Rss(long Resident, long Peak)
{
    public static Rss? Of(int pid)
    {
        try
        {
            long resident = 0, peak = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    resident = Kilobytes(line) * 1024;
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    peak = Kilobytes(line) * 1024;
                }
            }

            return new Rss(resident, peak);
        }
        catch (IOException)
        {
            return null; // Gone.
        }
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
}
