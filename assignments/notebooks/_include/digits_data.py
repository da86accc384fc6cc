from sklearn.datasets import load_digits

digits = load_digits()
X_all = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y_all = torch.tensor(digits.target)
perm = torch.randperm(len(X_all), generator=torch.Generator().manual_seed(0))
X_train, y_train = X_all[perm[:1500]].to(DEVICE), y_all[perm[:1500]].to(DEVICE)
X_test, y_test = X_all[perm[1500:]].to(DEVICE), y_all[perm[1500:]].to(DEVICE)


def make_model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)).to(DEVICE)


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


print(f"train: {tuple(X_train.shape)}, test: {tuple(X_test.shape)}")
