namespace LabRunner.Reliability;

public static class Mutation
{
    public static Task<int> MainAsync(int count, int seed, int run, TextWriter output, CancellationToken ct) => Task.FromResult(2);
}
