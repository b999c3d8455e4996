namespace ToDoList.Messaging.Tests;

/// <summary>Tests that keep every core busy on purpose run alone, so they cannot slow the timed tests beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StressCollection
{
    public const string Name = "Stress";
}
