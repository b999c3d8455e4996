using System.Collections.Concurrent;

namespace ToDoList.Messaging.Tests;

[Collection(StressCollection.Name)]
public sealed class NuidTests
{
    [Fact]
    public void Id_is_22_characters_of_base_62()
    {
        var id = Nuid.Next();

        Assert.Equal(22, id.Length);
        Assert.All(id, c => Assert.True(char.IsAsciiLetterOrDigit(c), $"'{c}' is not base 62"));
    }

    [Fact]
    public void Ids_are_unique_across_threads()
    {
        const int threads = 8;
        const int perThread = 20_000;
        var ids = new ConcurrentBag<string>();
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            var mine = new string[perThread];
            start.SignalAndWait();
            for (var i = 0; i < perThread; i++)
            {
                mine[i] = Nuid.Next();
            }

            foreach (var id in mine)
            {
                ids.Add(id);
            }
        })).ToList();

        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        Assert.Equal(threads * perThread, ids.Count);
        Assert.Equal(threads * perThread, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(ids, id => Assert.Equal(22, id.Length));
    }
}
